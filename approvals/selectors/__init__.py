"""The reviewer pages' read side: queue, review, history; values in, values out, no HTTP."""
