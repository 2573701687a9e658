import { compileAppProfile, type AppProfileFile } from './app-profile.js';

/**
 * The demo app's profile, hactl's default: `fixtures/apps/demo.yaml` is the same profile as a
 * file to copy from, and a test keeps the two equal.
 */
export const DEMO_PROFILE_DATA: AppProfileFile = {
  name: 'demo',
  cookie: 'JSESSIONID',
  // express-session signs the id: s:<id>.<signature>; only the id is random.
  sessionId: '^s:([^.]+)\\.',
  health: '/health',
  containerPort: 8080,
  // Spring Session's default, unless a scenario sets the demo app's (security sets 4 s).
  idleTimeoutSeconds: 1800,
  login: { method: 'POST', path: '/login', json: { userId: '{{userId}}', userNm: '{{userNm}}' } },
  read: { method: 'GET', path: '/session', hit: { status: 200, json: { '$.userId': '{{userId}}', '$.userNm': '{{userNm}}' } } },
  logout: { method: 'POST', path: '/logout' },
  increment: { method: 'POST', path: '/counter' },
  counter: { method: 'GET', path: '/counter', value: '$.counter' },
  readReplica: { method: 'GET', path: '/counter/replica', value: '$.counter' },
};

export const demoProfile = compileAppProfile(DEMO_PROFILE_DATA, 'built-in demo profile');
