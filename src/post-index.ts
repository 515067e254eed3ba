// Entry point of the post step (runs.post).
import { run } from './post.js'

void run()
