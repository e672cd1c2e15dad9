import { z } from 'zod';

/** A TCP port for a gRPC listener, 0 to 65535, where 0 picks a free port (tests use that). */
export const grpcPortVariable = z
  .string({ error: 'is missing; expected a TCP port number from 0 to 65535' })
  .regex(/^\d{1,5}$/, { error: 'must be a TCP port number from 0 to 65535, where 0 picks a free port' })
  .transform(Number)
  .refine((port) => port <= 65_535, { error: 'must be a TCP port number from 0 to 65535, where 0 picks a free port' });
