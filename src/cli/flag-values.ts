/**
 * Parsers of the CLI's numeric flag values, shared by the command definitions (commander calls
 * them while parsing; a bad value is refused with one line before anything starts). Cheap to
 * import: commander only.
 */
import { InvalidArgumentError } from 'commander';

/** A TCP port; 0 picks a free one. */
export function portFlag(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('must be a TCP port (0–65535)');
  return n;
}

/** A whole number of milliseconds above 0. */
export function positiveMsFlag(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a whole number of milliseconds above 0');
  return n;
}

/** A whole number of milliseconds, at least `min`. */
export function minMsFlag(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be a whole number of milliseconds, at least ${min}`);
    return n;
  };
}

/** A positive integer (a count). */
export function positiveIntFlag(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}
