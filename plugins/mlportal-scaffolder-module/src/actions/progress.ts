import type { ProjectStep } from '@mlportal/plugin-mlportal-common';

/**
 * Turns the saga's step events into task-log lines, one per transition:
 * `repository: running`, `repository: done (1.2 s) — first commit …`.
 * Steps first seen as `pending` are not logged; a repeated state is not logged twice.
 */
export class StepProgress {
  private readonly seen = new Map<string, string>();

  /** The line to log for this step event, or undefined when nothing changed. */
  line(step: ProjectStep): string | undefined {
    const previous = this.seen.get(step.name);
    this.seen.set(step.name, step.status);
    if (previous === step.status) return undefined;
    if (previous === undefined && step.status === 'pending') return undefined;
    let text = `${step.name}: ${step.status}`;
    const seconds = durationSeconds(step);
    if (seconds !== undefined && (step.status === 'done' || step.status === 'failed')) {
      text += ` (${seconds.toFixed(1)} s)`;
    }
    const why = step.status === 'failed' ? step.error : step.detail;
    if (why) text += ` — ${why}`;
    return text;
  }
}

function durationSeconds(step: ProjectStep): number | undefined {
  if (!step.startedAt || !step.finishedAt) return undefined;
  const ms = Date.parse(step.finishedAt) - Date.parse(step.startedAt);
  return Number.isFinite(ms) && ms >= 0 ? ms / 1000 : undefined;
}
