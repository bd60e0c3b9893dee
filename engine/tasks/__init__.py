"""Human tasks as people handle them: worklists, a task with its form, claiming, assigning, drafts
and comments, completion, and who gets a new task."""
