/**
 * docs/CLI.md and the parser agree (issue "The newcomer path": `--help` of every command is
 * accurate): every command of `buildProgram()`, walked recursively, has a `### linguamesh <path>`
 * section, and every section a command; each command's flags (commander `options`) are the flags
 * of its section's table, both ways, written the same way (`--port <port>`); each argument shows
 * in the section's Usage line. Each disagreement is reported by itself, naming the command, the
 * flag and the side it is missing from.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src/cli/main.js';

const DOC_PATH = resolve(import.meta.dirname, '../../../docs/CLI.md');
const DOC = 'docs/CLI.md';

interface CommandFlags {
  /** Flag name (`--port`, or the short one when there is no long one) → how it is written (`--port <port>`). */
  flags: Map<string, string>;
  /** Argument placeholders (`<id>`, `[file]`). */
  args: string[];
  /** The section's Usage line (docs only). */
  usage?: string;
}

const nameOf = (written: string): string => {
  const names = written.match(/--?[A-Za-z][\w-]*/g) ?? [];
  return names.find((n) => n.startsWith('--')) ?? names[0] ?? written;
};

/** The parser's commands by path (`linguamesh node services list`). */
function parserCommands(program: Command): Map<string, CommandFlags> {
  const found = new Map<string, CommandFlags>();
  const walk = (command: Command, path: string) => {
    found.set(path, {
      flags: new Map(command.options.map((o) => [o.long ?? o.short ?? o.flags, o.flags])),
      args: command.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`)),
    });
    for (const sub of command.commands) walk(sub, `${path} ${sub.name()}`);
  };
  walk(program, program.name());
  return found;
}

/** Table cells of a Markdown row; `\|` inside a cell is not a separator. */
const cellsOf = (row: string) => row.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/).map((c) => c.trim());

/** The documented commands by path: each `### linguamesh …` section with its flag table. */
function documentedCommands(markdown: string): Map<string, CommandFlags> {
  const found = new Map<string, CommandFlags>();
  let current: CommandFlags | undefined;
  for (const line of markdown.split('\n')) {
    const heading = /^###\s+(linguamesh(?:\s+[\w-]+)*)\s*$/.exec(line);
    if (heading) {
      current = { flags: new Map(), args: [] };
      found.set(heading[1]!.split(/\s+/).join(' '), current);
      continue;
    }
    if (/^#{1,3}\s/.test(line)) {
      current = undefined;
      continue;
    }
    if (!current) continue;
    const usage = /^Usage:\s+`([^`]+)`/.exec(line);
    if (usage) current.usage = usage[1]!;
    const row = /^\|\s*`([^`]+)`\s*\|/.exec(line);
    if (row) {
      const written = cellsOf(line)[0]!.replace(/`/g, '');
      current.flags.set(nameOf(written), written);
    }
  }
  return found;
}

/** Every disagreement between the parser and the docs, one sentence each. */
function disagreements(parser: Map<string, CommandFlags>, docs: Map<string, CommandFlags>): string[] {
  const problems: string[] = [];
  for (const [path, command] of parser) {
    const documented = docs.get(path);
    if (!documented) {
      problems.push(`\`${path}\` is a command of the parser, but ${DOC} has no \`### ${path}\` section (its flags: ${[...command.flags.values()].join(', ') || 'none'})`);
      continue;
    }
    for (const [name, written] of command.flags) {
      const doc = documented.flags.get(name);
      if (doc === undefined) problems.push(`\`${path}\`: flag \`${written}\` is in the parser but missing from ${DOC} (add a row to the table under \`### ${path}\`)`);
      else if (doc !== written) problems.push(`\`${path}\`: flag \`${name}\` is written \`${written}\` by the parser but \`${doc}\` in ${DOC}`);
    }
    for (const [name, written] of documented.flags) {
      if (!command.flags.has(name)) problems.push(`\`${path}\`: flag \`${written}\` is documented in ${DOC} but the parser has no such flag`);
    }
    for (const arg of command.args) {
      if (!(documented.usage ?? '').includes(arg)) problems.push(`\`${path}\`: argument \`${arg}\` is missing from the Usage line of \`### ${path}\` in ${DOC}`);
    }
  }
  for (const path of docs.keys()) {
    if (!parser.has(path)) problems.push(`${DOC} has a \`### ${path}\` section, but the parser has no such command`);
  }
  return problems;
}

describe('docs/CLI.md and the parser', () => {
  const parser = parserCommands(buildProgram());
  const markdown = readFileSync(DOC_PATH, 'utf8');

  it('document the same commands, flags and arguments', () => {
    expect(disagreements(parser, documentedCommands(markdown))).toEqual([]);
    // The walk reaches the nested commands and the documented client commands.
    expect([...parser.keys()]).toEqual(expect.arrayContaining(['linguamesh node services list', 'linguamesh pkg publish', 'linguamesh translate', 'linguamesh status']));
  });

  it('name exactly which flag of which command is missing where', () => {
    // Only what the edits below cause: any disagreement already there is the first test's to report.
    const before = new Set(disagreements(parser, documentedCommands(markdown)));
    const docs = documentedCommands(
      markdown
        .replace(/^\| `--result-timeout-ms <ms>` \|.*\n/m, '')
        .replace('| `--timeout-ms <ms>` |', '| `--timeout-ms <ms>` |\n| `--colour` | paint the table |')
        .replace('| `--http-port <port>` |', '| `--http-port <n>` |')
        .replace('Usage: `linguamesh pkg pack <service-dir> [flags]`', 'Usage: `linguamesh pkg pack [flags]`')
        .replace('### linguamesh hub\n', '### linguamesh hubs\n'),
    );
    expect(disagreements(parser, docs).filter((p) => !before.has(p))).toEqual([
      `\`linguamesh node\`: flag \`--http-port\` is written \`--http-port <port>\` by the parser but \`--http-port <n>\` in ${DOC}`,
      `\`linguamesh hub\` is a command of the parser, but ${DOC} has no \`### linguamesh hub\` section (its flags: --port <port>, --host <host>, --storage <dir>, --rescan-interval-ms <ms>, --config <file>, --print-config, --inspect [url], --record <file>, --log-level <level>, --log-format <format>)`,
      `\`linguamesh pkg pack\`: argument \`<service-dir>\` is missing from the Usage line of \`### linguamesh pkg pack\` in ${DOC}`,
      `\`linguamesh status\`: flag \`--colour\` is documented in ${DOC} but the parser has no such flag`,
      `\`linguamesh translate\`: flag \`--result-timeout-ms <ms>\` is in the parser but missing from ${DOC} (add a row to the table under \`### linguamesh translate\`)`,
      `${DOC} has a \`### linguamesh hubs\` section, but the parser has no such command`,
    ]);
  });
});
