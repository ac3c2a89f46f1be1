// Relacy versions of the model benchmark's scenarios (built only where relacy-dev is installed).
#pragma once

// Runs `schedules` random schedules of two threads x 1000 locked increments; true when all pass.
bool relacy_counter(int schedules, bool lock_per_increment);
// Runs `schedules` random schedules of 2 producers / 2 consumers moving 100 items through a
// bounded queue of capacity 4; true when all pass.
bool relacy_queue(int schedules);
// Runs `schedules` random schedules of two threads x 8 atomic increments (fetch_add, seq_cst),
// about 20 steps each; true when all pass.
bool relacy_short(int schedules);
