/**
 * Sample-rate conversion for pcm16 by windowed-sinc interpolation (Hann window). When the rate goes
 * down, the sinc's cutoff moves to the new Nyquist so speech above it is filtered out instead of
 * folding back as aliasing, which a plain linear interpolator would let through.
 */

/** Zero crossings of the sinc on each side of a sample; 12 keeps the filter sharp and cheap. */
const ZERO_CROSSINGS = 12;

export function resamplePcm16(input: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (!(fromRate > 0) || !(toRate > 0)) throw new RangeError(`bad rates ${fromRate} → ${toRate}`);
  if (fromRate === toRate || input.length === 0) return input;
  const ratio = toRate / fromRate;
  const cutoff = Math.min(1, ratio);
  const radius = ZERO_CROSSINGS / cutoff;
  const out = new Int16Array(Math.floor(input.length * ratio));
  const last = input.length - 1;
  for (let i = 0; i < out.length; i += 1) {
    const centre = i / ratio;
    const lo = Math.max(0, Math.ceil(centre - radius));
    const hi = Math.min(last, Math.floor(centre + radius));
    let acc = 0;
    let weights = 0;
    for (let j = lo; j <= hi; j += 1) {
      const x = j - centre;
      const arg = Math.PI * cutoff * x;
      const sinc = arg === 0 ? 1 : Math.sin(arg) / arg;
      const window = 0.5 + 0.5 * Math.cos((Math.PI * x) / radius);
      const w = sinc * window;
      acc += (input[j] ?? 0) * w;
      weights += w;
    }
    const value = weights === 0 ? 0 : acc / weights;
    out[i] = Math.max(-32_768, Math.min(32_767, Math.round(value)));
  }
  return out;
}
