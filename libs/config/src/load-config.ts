import { z } from 'zod';

import { ConfigError } from './config-error.js';
import { developmentDefaults } from './development-defaults.js';

/**
 * Validates the environment against an app's schema once, at boot.
 *
 * Every problem is reported at once, each naming the variable and the expected form. Under
 * NODE_ENV=production a variable left at its development default is rejected too.
 */
export function loadConfig<Shape extends z.ZodRawShape>(
  appName: string,
  shape: Shape,
  environment: Readonly<Record<string, string | undefined>> = process.env,
): z.infer<z.ZodObject<Shape>> {
  const result = z.object(shape).safeParse(environment);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`);
    throw new ConfigError(appName, problems);
  }

  if (environment.NODE_ENV === 'production') {
    // A variable with a development value must be set explicitly in production, because a built-in
    // default would otherwise bring the development value back silently.
    const leftAtDefault = Object.keys(shape).filter(
      (name) =>
        developmentDefaults[name] !== undefined && (environment[name] === undefined || environment[name] === developmentDefaults[name]),
    );
    if (leftAtDefault.length > 0) {
      throw new ConfigError(
        appName,
        leftAtDefault.map((name) =>
          environment[name] === undefined
            ? `${name} is missing; production needs an explicit value`
            : `${name} still has its development value from .env.example; set a production value`,
        ),
      );
    }
  }

  return result.data;
}
