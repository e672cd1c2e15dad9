import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';

import { PROBLEM_MAPPERS, ProblemDetailsFilter } from './problem-details.filter.js';
import type { ProblemMapper } from './problem.js';

/**
 * Installs ProblemDetailsFilter as the app's global exception filter. `mappers` translate the
 * app's own error families, such as the grant domain's GrantError, into problems.
 */
@Module({})
export class ProblemDetailsModule {
  static forRoot(mappers: readonly ProblemMapper[] = []): DynamicModule {
    return {
      module: ProblemDetailsModule,
      providers: [
        { provide: PROBLEM_MAPPERS, useValue: mappers },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ],
    };
  }
}
