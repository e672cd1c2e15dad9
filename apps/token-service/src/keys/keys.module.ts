import { Module } from '@nestjs/common';

import { SigningKeysHttpController } from './signing-keys.http.controller.js';

/** Signing-key administration over REST; the KeyRing itself is shared from TokenServiceModule. */
@Module({ controllers: [SigningKeysHttpController] })
export class KeysModule {}
