export { toJunit, xmlText, xmlAttr, JUNIT_OTHER_SUITE, type JunitOptions } from './junit.renderer.js';
