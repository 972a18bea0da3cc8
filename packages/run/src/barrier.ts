/**
 * The `"barrier": true` stage start across threads: every thread that still runs arrives at stage `i`
 * before any of them starts it. A thread that has no more stages (or failed) leaves and stops counting,
 * so the others never wait for it.
 */
export interface StageBarrier {
  /** Resolves once every thread still counting has arrived at `stage`. */
  arrive(stage: number): Promise<void>;
  /** This thread stops counting (call once per thread, when it ends for any reason). */
  leave(): void;
}

export function createBarrier(parties: number): StageBarrier {
  const arrived = new Map<number, { count: number; release: () => void; done: Promise<void> }>();
  let left = parties;
  const entry = (stage: number) => {
    let e = arrived.get(stage);
    if (!e) {
      let release!: () => void;
      const done = new Promise<void>((r) => (release = r));
      e = { count: 0, release, done };
      arrived.set(stage, e);
    }
    return e;
  };
  return {
    async arrive(stage) {
      const e = entry(stage);
      e.count++;
      if (e.count >= left) e.release();
      await e.done;
    },
    leave() {
      left--;
      for (const e of arrived.values()) if (e.count >= left) e.release();
    },
  };
}
