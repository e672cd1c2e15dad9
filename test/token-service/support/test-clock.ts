import type { Clock } from '../../../apps/token-service/src/common/clock.js';

/** A clock the test moves forward instead of sleeping; it starts at the real time. */
export class TestClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(milliseconds: number): void {
    this.offsetMs += milliseconds;
  }
}
