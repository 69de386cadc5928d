export { buildConsole, type ConsoleAsset, type ConsoleBundle } from './bundle.ts';
