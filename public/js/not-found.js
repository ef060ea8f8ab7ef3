// @ts-check
import { wireJoinForm } from './join-code.js';

wireJoinForm();
