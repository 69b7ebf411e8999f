/**
 * Steps and groups of a VLM-R1 / R1-V debug log, which holds neither (docs/formats.md, "VLM-R1
 * debug log"). What the trainers guarantee: every rank calls the reward functions once per
 * generation round, and the gather after them keeps any rank from starting the next round before
 * all finished this one, so all blocks of round k are in the file before any block of round k+1.
 * Timestamps are taken once per call (R1-V, VLM-R1 grpo.py and older grpo_rec.py) or once per
 * completion (grpo_jsonl.py, qwen/internvl iou_reward); either way a round's blocks come close
 * together and the next round comes after a generation pass. So, in file order, a block more than
 * `gap` after the latest block of the current step opens the next step; any other block belongs
 * to the current step (never to an older one).
 *
 * Groups (completions of one prompt): with a problem line, identical problem + image + solution
 * within the step (grpo_jsonl.py logs problem[0] / image_path[0] of the call for every
 * completion, so the solution tells the call's prompts apart). Without one, the block's call
 * (its timestamp, once per call) and a run of identical solutions in it.
 */
import type { RolloutRecord } from '../schema/record';
import type { RecordSink, SourceLocation } from './types';
import type { FormatVerdicts } from './vlmr1Verdicts';

const DAY_US = 86_400e6;
const MAX_SIZE_NOTES = 5;

export interface StepInput {
  record: RolloutRecord;
  loc: SourceLocation;
  time: number;
  stamp: string;
  /** 'problem': the block logs a problem line; 'call': it does not (one timestamp per call). */
  grouping: 'problem' | 'call';
  problem?: string;
  images?: string[];
  solution?: string;
  /** The upstream writer may log problem[0] / image_path[0] of its call (grpo_jsonl.py; qwen_module.py 2025-04-16 to 06-26). */
  callFirstProblem?: boolean;
}

interface Step {
  step: number;
  last: number;
  groups: Map<string, { id: string; size: number; solution?: string; call?: string }>;
  firstSolution: Map<string, string | undefined>;
  runs: Map<string, { solution?: string; key: string }>;
}

export class StepAssembler {
  private current: Step | null = null;
  private next = 0;
  private monthShift = 0;
  private latest = -Infinity;
  private held: { rec: RolloutRecord; loc: SourceLocation }[] = [];
  private sizeNotes = 0;
  private notedAttribution = false;
  private notedSharedSolution = false;

  constructor(
    private readonly sink: RecordSink,
    private readonly verdicts: FormatVerdicts,
    private readonly gapUs: number,
  ) {}

  get holding(): boolean {
    return this.held.length > 0;
  }

  add(x: StepInput): void {
    // The day field wraps at a month boundary; keep time increasing across it.
    let time = x.time + this.monthShift;
    if (time < this.latest - 15 * DAY_US) {
      this.monthShift += 31 * DAY_US;
      time += 31 * DAY_US;
    }
    this.latest = Math.max(this.latest, time);
    if (!this.current || time > this.current.last + this.gapUs) this.open(time, x.loc.file);
    const st = this.current!;
    st.last = Math.max(st.last, time);
    const rec = x.record;
    rec.step = st.step;
    const key = x.grouping === 'problem' ? this.problemKey(st, x) : this.callKey(st, x);
    let g = st.groups.get(key);
    if (!g) st.groups.set(key, (g = { id: `${st.step}/${st.groups.size}`, size: 0, solution: x.solution, call: x.grouping === 'call' ? x.stamp : undefined }));
    rec.group = g.id;
    rec.index = g.size++;
    this.held.push({ rec, loc: x.loc });
  }

  /** Same problem + image + solution. A solution other than the first one seen for this problem
   *  line in the step is another prompt of the same call: the line names the call's first prompt. */
  private problemKey(st: Step, x: StepInput): string {
    const at = JSON.stringify([x.problem ?? null, x.images ?? []]);
    if (!st.firstSolution.has(at)) st.firstSolution.set(at, x.solution);
    else if (x.callFirstProblem && st.firstSolution.get(at) !== x.solution && x.record.prompt) {
      const meta = (x.record.meta ??= {});
      if (x.record.prompt.text !== undefined) meta.logged_problem = x.record.prompt.text;
      if (x.record.prompt.images !== undefined) meta.logged_image_path = x.record.prompt.images;
      delete x.record.prompt;
      if (!this.notedAttribution) {
        this.notedAttribution = true;
        this.sink.note?.({
          file: x.loc.file,
          line: x.loc.line,
          message:
            'a problem: line logged with another solution than its first block in this step names the first prompt of its reward call ' +
            '(grpo_jsonl.py logs problem[0] and image_path[0] for every completion): such records keep it as meta.logged_problem / meta.logged_image_path, not as their prompt',
        });
      }
    }
    return JSON.stringify([at, x.solution ?? null]);
  }

  /** One call (one timestamp) and a run of identical solutions in it: one prompt's completions. */
  private callKey(st: Step, x: StepInput): string {
    const run = st.runs.get(x.stamp);
    if (run && run.solution === x.solution) return run.key;
    const key = `call ${x.stamp} ${st.groups.size}`;
    st.runs.set(x.stamp, { solution: x.solution, key });
    return key;
  }

  private open(time: number, file: string): void {
    this.close(file);
    this.current = { step: this.next++, last: time, groups: new Map(), firstSolution: new Map(), runs: new Map() };
  }

  /** The step is over: hand its records over and say what its groups cannot tell. */
  private close(file: string): void {
    this.flush();
    const st = this.current;
    if (!st) return;
    const groups = [...st.groups.values()];
    const sizes = new Map<number, number>();
    for (const g of groups) sizes.set(g.size, (sizes.get(g.size) ?? 0) + 1);
    if (sizes.size > 1 && this.sizeNotes++ < MAX_SIZE_NOTES) {
      const list = [...sizes].sort((a, b) => b[1] - a[1]).map(([size, n]) => `${n} of ${size}`).join(', ');
      this.sink.note?.({
        file,
        message:
          `step ${st.step}: groups of different sizes (${list}): blocks whose reward was above 1.0 are not logged, ` +
          'and prompts the log cannot tell apart (same problem line and solution, or same call and solution) share one group',
      });
    }
    if (!this.notedSharedSolution) {
      const calls = new Map<string, Set<string>>();
      for (const g of groups) if (g.call !== undefined) calls.set(g.solution ?? '', (calls.get(g.solution ?? '') ?? new Set()).add(g.call));
      const shared = [...calls.values()].filter((c) => c.size > 1).length;
      if (shared > 0) {
        this.notedSharedSolution = true;
        this.sink.note?.({
          file,
          message:
            `step ${st.step}: ${shared} solution(s) appear in more than one reward call; with no problem line a group is one call's run of one solution, ` +
            "so one prompt whose completions were spread over ranks (VLM-R1's RepeatRandomSampler) shows as several groups, and the log cannot tell that from different prompts with the same answer",
        });
      }
    }
  }

  /** Hands over the records held so far (the step stays open). */
  flush(): void {
    for (const { rec, loc } of this.held) {
      const content = typeof rec.completion === 'string' ? rec.completion : undefined;
      const ok = content === undefined ? undefined : this.verdicts.get(content);
      if (ok !== undefined) {
        (rec.meta ??= {}).has_format = ok;
        const rewards = (rec.rewards ??= {});
        if (!('format' in rewards)) rewards.format = ok ? 1 : 0;
      }
      this.sink.record(rec, loc);
    }
    this.held = [];
  }

  end(file: string): void {
    this.close(file);
    this.current = null;
    if (this.sizeNotes > MAX_SIZE_NOTES) this.sink.note?.({ file, message: `${this.sizeNotes - MAX_SIZE_NOTES} more steps with groups of different sizes` });
  }
}
