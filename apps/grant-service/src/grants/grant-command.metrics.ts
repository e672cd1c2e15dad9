import { Injectable } from '@nestjs/common';
import { Counter, register } from 'prom-client';

export type GrantCommandName = 'create_grant' | 'change_grant_scopes' | 'revoke_grant';

/**
 * `recorded`: events appended. `unchanged`: already satisfied, nothing appended. `rejected`: a
 * grant rule failed. `conflict`: concurrency conflicts outlasted the retries. `failed`: any
 * other error.
 */
export type GrantCommandOutcome = 'recorded' | 'unchanged' | 'rejected' | 'conflict' | 'failed';

/** Prometheus counters of grant commands, registered once per process in the default registry. */
@Injectable()
export class GrantCommandMetrics {
  private readonly commands = counter('grant_commands_total', 'Grant commands handled, by command and outcome.', [
    'command',
    'outcome',
  ]);
  private readonly retries = counter(
    'grant_command_retries_total',
    'Grant command attempts repeated after a concurrency conflict, by command.',
    ['command'],
  );

  countOutcome(command: GrantCommandName, outcome: GrantCommandOutcome): void {
    this.commands.inc({ command, outcome });
  }

  countRetry(command: GrantCommandName): void {
    this.retries.inc({ command });
  }
}

/** Returns the registered counter of that name, so that several app instances in one process share it. */
function counter<Label extends string>(name: string, help: string, labelNames: Label[]): Counter<Label> {
  const existing = register.getSingleMetric(name);
  if (existing !== undefined) return existing as Counter<Label>;
  return new Counter({ name, help, labelNames });
}
