// Peer-assisted segment loading for hls.js (see DESIGN.md in this folder).
//
//   const engine = new Engine({ mode: 'on' });
//   const hls = new Hls({ fLoader: createFragmentLoader(engine) });
//   engine.attach(video);
export { Engine, newStats } from './engine.js';
export { createFragmentLoader } from './loader.js';
export { parseMode, userMode } from './settings.js';
