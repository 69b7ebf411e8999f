/** Training steps are whole numbers: a step axis ticks at these increments only (uPlot `incrs`). */
export const STEP_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 20_000, 50_000, 100_000];
