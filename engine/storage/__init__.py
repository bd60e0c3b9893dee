"""The one place that writes: tables, database connections, the unit of work, the statements of an
engine step, and the migrations. Database-specific code lives here only."""
