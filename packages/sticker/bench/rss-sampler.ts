import { readFileSync } from 'node:fs';

const PAGE = 4096;

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Every descendant of `pid`, deepest last. */
export function descendants(pid: number): number[] {
  return children(pid).flatMap((child) => [child, ...descendants(child)]);
}

function rss(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE;
  } catch {
    return 0;
  }
}

function treeRss(pid: number): number {
  return rss(pid) + children(pid).reduce((sum, child) => sum + treeRss(child), 0);
}

/** Samples the summed RSS of a process and its descendants (node + sharp + ffmpeg) every `everyMs`. */
export function sampleTreeRss(pid: number, everyMs = 20): { stop(): number } {
  let peak = 0;
  const tick = (): void => {
    peak = Math.max(peak, treeRss(pid));
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}
