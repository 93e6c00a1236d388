import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeGif, makeJpeg, makePngWithAlpha, makeVideo } from '../src/test-kit/index.js';

/** One input class of the benchmark. */
export interface BenchInput {
  name: string;
  file: string;
  animated: boolean;
}

/** Generates the benchmark's inputs into `dir` (nothing binary is committed). */
export async function generateBenchInputs(dir: string): Promise<BenchInput[]> {
  const specs: { name: string; ext: string; animated: boolean; make: () => Promise<Buffer> }[] = [
    { name: 'JPEG 4000×3000 photo', ext: 'jpg', animated: false, make: () => makeJpeg(4000, 3000) },
    { name: 'PNG 1080×1080 alpha', ext: 'png', animated: false, make: () => makePngWithAlpha(1080, 1080) },
    { name: 'GIF 480×360 40 frames', ext: 'gif', animated: true, make: () => makeGif(480, 360, 40, 80) },
    { name: 'MP4 720p 3 s', ext: 'mp4', animated: true, make: () => makeVideo({ seconds: 3, width: 1280, height: 720, fps: 30, audio: true }) },
    { name: 'MP4 720p 10 s', ext: 'mp4', animated: true, make: () => makeVideo({ seconds: 10, width: 1280, height: 720, fps: 30, source: 'mandelbrot' }) },
  ];
  const inputs: BenchInput[] = [];
  for (const [i, spec] of specs.entries()) {
    const file = join(dir, `input-${i}.${spec.ext}`);
    await writeFile(file, await spec.make());
    inputs.push({ name: spec.name, file, animated: spec.animated });
  }
  return inputs;
}
