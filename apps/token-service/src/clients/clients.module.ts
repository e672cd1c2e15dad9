import { Module } from '@nestjs/common';

import { BootstrapClientInitializer } from './bootstrap-client.initializer.js';
import { ClientsHttpController } from './clients.http.controller.js';

/** The client registry's admin API and the bootstrap client. */
@Module({ controllers: [ClientsHttpController], providers: [BootstrapClientInitializer] })
export class ClientsModule {}
