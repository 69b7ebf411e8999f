/**
 * The overview's numbers as a table, for screen readers (visually hidden; charts are pictures).
 * One row per step, kept in step order; only the rows of changed steps are rewritten.
 */
import type { StepSummary } from '../../src/protocol/overview';
import { format } from './overview-chart';

const COLUMNS: [string, (s: StepSummary) => string][] = [
  ['step', (s) => String(s.step)],
  ['completions', (s) => String(s.completions)],
  ['groups', (s) => String(s.groups)],
  ['reward mean', (s) => format(s.total.mean)],
  ['reward std', (s) => format(s.total.std)],
  ['zero-variance groups', (s) => String(s.zeroVarianceGroups)],
  ['format failures', (s) => String(s.formatFailures)],
  ['mean length', (s) => format(s.length.mean)],
  ['IoU median', (s) => (s.iou ? format(s.iou.p50) : '')],
];

export class StepsTable {
  readonly root: HTMLTableElement;
  private readonly body: HTMLTableSectionElement;
  private readonly rows = new Map<number, HTMLTableRowElement>();
  /** Ascending steps shown. */
  private order: number[] = [];

  constructor() {
    this.root = document.createElement('table');
    this.root.className = 'visually-hidden';
    this.root.dataset.testid = 'overview-table';
    const caption = this.root.createCaption();
    caption.textContent = 'Per-step numbers of the run overview';
    const head = this.root.createTHead().insertRow();
    for (const [name] of COLUMNS) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = name;
      head.append(th);
    }
    this.body = this.root.createTBody();
  }

  clear(): void {
    this.body.replaceChildren();
    this.rows.clear();
    this.order = [];
  }

  update(steps: readonly StepSummary[]): void {
    for (const s of steps) {
      let row = this.rows.get(s.step);
      if (!row) {
        row = document.createElement('tr');
        row.dataset.step = String(s.step);
        const at = lowerBound(this.order, s.step);
        this.body.insertBefore(row, this.rows.get(this.order[at]!) ?? null);
        this.order.splice(at, 0, s.step);
        this.rows.set(s.step, row);
      }
      row.replaceChildren(
        ...COLUMNS.map(([, cell], i) => {
          const td = document.createElement(i === 0 ? 'th' : 'td');
          if (i === 0) (td as HTMLTableCellElement).scope = 'row';
          td.textContent = cell(s);
          return td;
        }),
      );
    }
  }
}

function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
