import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { setTimeout as sleep } from 'node:timers/promises';

import { GrantError } from '#grant-domain/grant-error.js';

import type { GrantCommandResult } from './grant-command-result.js';
import { GrantCommandMetrics, type GrantCommandName, type GrantCommandOutcome } from './grant-command.metrics.js';

/** Attempts per command, the first included, before a concurrency conflict reaches the caller. */
export const maxCommandAttempts = 5;

/**
 * Runs a command's load-decide-append attempt, repeating the whole attempt while it raises
 * `grant.concurrency_conflict`, and counts the outcome. The last conflict is raised to the caller.
 */
@Injectable()
export class GrantCommandRunner {
  constructor(
    private readonly metrics: GrantCommandMetrics,
    @InjectPinoLogger(GrantCommandRunner.name) private readonly logger: PinoLogger,
  ) {}

  async run(
    command: GrantCommandName,
    context: Record<string, string>,
    attempt: () => Promise<GrantCommandResult>,
  ): Promise<GrantCommandResult> {
    for (let attemptNumber = 1; ; attemptNumber += 1) {
      try {
        const result = await attempt();
        this.metrics.countOutcome(command, result.recorded ? 'recorded' : 'unchanged');
        return result;
      } catch (error) {
        const conflict = error instanceof GrantError && error.code === 'grant.concurrency_conflict';
        if (conflict && attemptNumber < maxCommandAttempts) {
          this.metrics.countRetry(command);
          this.logger.info({ command, attempt: attemptNumber, ...context }, 'Grant command hit a concurrency conflict and is retried');
          await sleep(retryDelayMs(attemptNumber));
          continue;
        }
        if (conflict) {
          this.logger.warn({ command, attempts: attemptNumber, ...context }, 'Grant command gave up after repeated concurrency conflicts');
        }
        this.metrics.countOutcome(command, outcomeOf(error));
        throw error;
      }
    }
  }
}

/**
 * Random delay below 5, 10, 20, then 40 ms: the jitter spreads out writers that conflicted on one
 * stream, so that they do not collide again in step.
 */
function retryDelayMs(attemptNumber: number): number {
  return Math.random() * 5 * 2 ** (attemptNumber - 1);
}

function outcomeOf(error: unknown): GrantCommandOutcome {
  if (!(error instanceof GrantError)) return 'failed';
  return error.code === 'grant.concurrency_conflict' ? 'conflict' : 'rejected';
}
