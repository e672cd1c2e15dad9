import { Controller, Delete, Patch, Post, Put, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import { ProblemError } from '#platform/problem-details/problem.js';

const collectionMethods = ['GET', 'POST'];
const itemMethods = ['GET', 'PATCH', 'DELETE'];
const historyMethods = ['GET'];

/**
 * Responds 405 with an `Allow` header to methods that the grant routes do not support, where
 * Fastify alone would respond 404. It needs no token, because it reveals only the route table.
 * Nest maps one HTTP method per handler, so each method has its own handler.
 */
@Controller('v1/grants')
export class MethodNotAllowedHttpController {
  @Put()
  putCollection(@Req() request: FastifyRequest): never {
    throw methodNotAllowed(request, collectionMethods);
  }

  @Patch()
  patchCollection(@Req() request: FastifyRequest): never {
    throw methodNotAllowed(request, collectionMethods);
  }

  @Delete()
  deleteCollection(@Req() request: FastifyRequest): never {
    throw methodNotAllowed(request, collectionMethods);
  }

  @Put(':grant_id')
  putItem(@Req() request: FastifyRequest): never {
    throw methodNotAllowed(request, itemMethods);
  }

  @Post(':grant_id')
  postItem(@Req() request: FastifyRequest): never {
    throw methodNotAllowed(request, itemMethods);
  }

  @Put(':grant_id/history')
  putHistory(@Req() request: FastifyRequest): never {
    throw methodNotAllowed(request, historyMethods);
  }

  @Post(':grant_id/history')
  postHistory(@Req() request: FastifyRequest): never {
    throw methodNotAllowed(request, historyMethods);
  }

  @Patch(':grant_id/history')
  patchHistory(@Req() request: FastifyRequest): never {
    throw methodNotAllowed(request, historyMethods);
  }

  @Delete(':grant_id/history')
  deleteHistory(@Req() request: FastifyRequest): never {
    throw methodNotAllowed(request, historyMethods);
  }
}

function methodNotAllowed(request: FastifyRequest, allowed: readonly string[]): ProblemError {
  const path = request.url.split('?')[0];
  return new ProblemError({
    status: 405,
    code: 'request.method_not_allowed',
    title: 'Method not allowed',
    detail: `${request.method} is not allowed on ${path}, so use one of ${allowed.join(', ')}.`,
    headers: { Allow: allowed.join(', ') },
  });
}
