// Randomised orders: seeded sequences of full and partial deploys, start/stop bursts, a second
// iio-in on the same buffer and buffer0/enable = 0 written by iio-attr, with the invariants
// checked after every step. A round stops at its first violation (its steps are printed, so
// IIO_SEED reproduces it) and the kernel is scrubbed before the next round: a device left naming
// a removed trigger must never see the next deploy (that is the kernel panic of issue 16).
import { strict as assert } from 'assert';
import { Rng } from './lib/seed';
import { row, crashCount, crashesSince } from './lib/report';
import { StallMonitor, STALL_BOUND_MS } from './lib/stall';
import { baseline, unloadLeftovers, scrub, violations, ctx, Owner } from './lib/invariants';
import { load, unload, deployNodes, describeErr, statusText, Msg } from './lib/red';
import { ADC, CATCH, OUR_TRIGGERS, owner, countInto, settled, delivers, send, inNode, sinkOf, isRunning, setSys } from './lib/steps';
import { createHrtimerTrigger, removeHrtimerTrigger } from '../../src/trigger';

const ROUNDS = Number(process.env.IIO_ORDER_ROUNDS) || 6;
const STEPS = Number(process.env.IIO_ORDER_STEPS) || 8;
const TRIGGER = 'rel-ord';

type Part = 'trig' | 'a' | 'b' | 'w';
interface State {
  parts: Set<Part>;
  auto: Record<'a' | 'b', boolean>;
}

function flowOf(s: State): Msg[] {
  const flow: Msg[] = [ADC, ...CATCH];
  if (s.parts.has('trig')) flow.push({ id: 'trig', type: 'iio-trigger', kind: 'hrtimer', triggerName: TRIGGER, frequency: 500 });
  for (const id of ['a', 'b'] as const) if (s.parts.has(id)) flow.push(inNode(id, TRIGGER, { autoStart: s.auto[id] }), sinkOf(id));
  if (s.parts.has('w')) flow.push({ id: 'w', type: 'iio-attr', device: 'dev-adc', target: 'device', attribute: 'buffer0/enable', action: 'write', wires: [[]] });
  return flow;
}

describe('reliability: randomised start/stop/deploy orders', function () {
  this.timeout(0);
  afterEach(async () => {
    await unload().catch(() => undefined);
    scrub(OUR_TRIGGERS);
  });

  it(`${ROUNDS} rounds × ${STEPS} steps of deploys, partial deploys, commands and disables; invariants after every step`, async () => {
    const r = row('randomised orders');
    const rng = Rng.for('orders');
    const crash0 = crashCount();
    const failures: string[] = [];
    const mon = new StallMonitor().start();
    for (let round = 0; round < ROUNDS; round++) {
      const base = baseline();
      const log: string[] = [];
      const adopted = rng.chance(0.25);
      if (adopted) createHrtimerTrigger(TRIGGER, ctx);
      const s: State = { parts: new Set(), auto: { a: true, b: false } };
      const owners = (): Owner[] => (['a', 'b'] as const).filter((id) => s.parts.has(id)).map((id) => owner(id, 'emu-adc', 0));
      const sinks = () => (['a', 'b'] as const).filter((id) => s.parts.has(id)).map((id) => `${id}-sink`);
      let failed: string[] = [];
      try {
        for (let step = 0; step < STEPS && failed.length === 0; step++) {
          const roll = rng.next();
          if (roll < 0.3 || s.parts.size === 0) {
            s.parts = new Set((['trig', 'a', 'b', 'w'] as const).filter(() => rng.chance(0.6)));
            s.auto = { a: rng.chance(0.7), b: rng.chance(0.3) };
            log.push(`full deploy [${[...s.parts].join(',')}] auto a=${s.auto.a} b=${s.auto.b}`);
            await unload();
            await load(flowOf(s));
          } else if (roll < 0.55) {
            const part = rng.pick(['trig', 'a', 'b', 'w'] as const);
            if (s.parts.has(part)) s.parts.delete(part);
            else s.parts.add(part);
            log.push(`partial deploy ${s.parts.has(part) ? '+' : '-'}${part}`);
            await deployNodes(flowOf(s));
          } else if (roll < 0.85) {
            const id = rng.pick(['a', 'b'] as const);
            if (!s.parts.has(id)) continue;
            const words = Array.from({ length: rng.int(1, 4) }, () => rng.pick(['start', 'stop']));
            log.push(`${id} ← ${words.join(',')}`);
            await send(id, ...words);
          } else if (s.parts.has('w')) {
            log.push('iio-attr writes buffer0/enable = 0');
            await send('w', 0);
          } else {
            log.push('buffer0/enable = 0 from outside');
            try {
              setSys('emu-adc', 'buffer0/enable', 0);
            } catch {
              /* already disabled */
            }
          }
          r.attempts++;
          for (const sink of sinks()) countInto(sink);
          const v = await settled(owners());
          // A node that says running must deliver.
          for (const id of ['a', 'b'] as const) {
            if (s.parts.has(id) && isRunning(id) && !(await delivers(`${id}-sink`))) v.push(`${id} says "${statusText(id)}" but delivers nothing`);
          }
          if (v.length) failed = v;
        }
        if (failed.length === 0) {
          log.push('unload');
          const left = await unloadLeftovers(r, { ...base, triggers: adopted ? [...base.triggers, TRIGGER].sort() : base.triggers });
          failed = left;
        }
      } catch (err) {
        failed = [`step threw: ${describeErr(err)}`];
      } finally {
        await unload().catch(() => undefined);
        scrub(OUR_TRIGGERS);
        if (adopted && ctx.findTrigger(TRIGGER)) removeHrtimerTrigger(TRIGGER);
      }
      if (failed.length) failures.push(`round ${round}${adopted ? ' (trigger adopted)' : ''}: ${failed.join('; ')}\n      steps: ${log.join(' → ')}`);
    }
    r.stallMaxMs = await mon.stop();
    const crashes = crashesSince(crash0).map((c) => `crash: ${describeErr(c)}`);
    if (r.stallMaxMs > STALL_BOUND_MS) failures.push(`event loop stalled ${Math.round(r.stallMaxMs)} ms (bound ${STALL_BOUND_MS} ms)`);
    assert.deepEqual([...failures, ...crashes], [], `${failures.length} of ${ROUNDS} rounds failed:\n  ${[...failures, ...crashes].join('\n  ')}`);
    assert.deepEqual(violations([]), []);
  });
});
