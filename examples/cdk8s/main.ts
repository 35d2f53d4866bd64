// The main job: `npm run synth` writes the example manifests under dist/ (see app.ts).
import { synthExamples } from './app';

synthExamples('dist');
process.stdout.write('Synthesized dist/self-hosted and dist/addon\n');
