import { loadAppProfile } from '../config/app-profile.js';
import { demoProfile } from '../config/demo-profile.js';
import { parseAppFlags } from '../config/options.js';
import { UsageError } from '../platform/errors.js';
import { runtimes } from '../runtime/index.js';
import type { ComposeOptions } from '../topology/compose.js';

/** `hactl compose`'s flags that describe the user's app, as `hactl run --runtime docker` takes them. */
export interface ComposeAppFlags {
  appImage?: string;
  appProfile?: string;
  appEnv?: string[];
}

/**
 * The user's app for a compose file: its image, the profile's health path, port and cookie, and
 * the templated --app-env; absent without --app-image (the demo app). The same checks as `hactl
 * run` makes of the same flags.
 */
export async function composeApp(flags: ComposeAppFlags): Promise<Pick<ComposeOptions, 'custom' | 'cookieName'>> {
  if (flags.appImage === undefined) {
    if (flags.appProfile !== undefined || flags.appEnv !== undefined) throw new UsageError(`${flags.appProfile !== undefined ? '--app-profile' : '--app-env'} describes your app's image: give --app-image with it`);
    return {};
  }
  const app = parseAppFlags({ appImage: flags.appImage, ...(flags.appProfile !== undefined ? { appProfile: flags.appProfile } : {}), ...(flags.appEnv !== undefined ? { appEnv: flags.appEnv } : {}) }, runtimes.docker);
  const profile = app.profileFile === undefined ? demoProfile : await loadAppProfile(app.profileFile);
  return {
    custom: { image: flags.appImage, env: app.env, healthPath: profile.healthPath, ...(profile.containerPort !== undefined ? { containerPort: profile.containerPort } : {}) },
    cookieName: profile.cookieName,
  };
}
