import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';

import { TOKEN_SERVICE_CONFIG, type TokenServiceConfig } from '../config/token-service.config.js';
import { ClientRegistry } from './client-registry.js';

/** Creates or updates the bootstrap service client from BOOTSTRAP_CLIENT_ID and BOOTSTRAP_CLIENT_SECRET at start. */
@Injectable()
export class BootstrapClientInitializer implements OnModuleInit {
  private readonly logger = new Logger(BootstrapClientInitializer.name);

  constructor(
    @Inject(ClientRegistry) private readonly registry: ClientRegistry,
    @Inject(TOKEN_SERVICE_CONFIG) private readonly config: TokenServiceConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.registry.ensureBootstrapClient(this.config.BOOTSTRAP_CLIENT_ID, this.config.BOOTSTRAP_CLIENT_SECRET);
    this.logger.log({ clientId: this.config.BOOTSTRAP_CLIENT_ID }, 'Bootstrap client ready');
  }
}
