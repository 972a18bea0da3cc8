import { readFile } from 'node:fs/promises';

import { createCanvas, loadImage } from '@napi-rs/canvas';

/** Width and height from a PNG's IHDR; throws when the file is not a PNG. */
export function pngSize(buf: Buffer): { width: number; height: number } {
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!buf.subarray(0, 8).equals(sig) || buf.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/** Decodes a PNG and measures its content: share of non-background pixels and distinct colours. */
export async function pngContent(file: string): Promise<{ width: number; height: number; inked: number; colours: number }> {
  const buf = await readFile(file);
  const { width, height } = pngSize(buf);
  const img = await loadImage(buf);
  const c = createCanvas(width, height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, width, height).data;
  let inked = 0;
  const colours = new Set<number>();
  for (let i = 0; i < data.length; i += 4) {
    const rgb = (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
    if (rgb !== 0xffffff) inked++;
    if (colours.size < 1000) colours.add(rgb);
  }
  return { width, height, inked: inked / (width * height), colours: colours.size };
}
