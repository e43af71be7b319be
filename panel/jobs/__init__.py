"""RQ glue: queues, the worker, periodic jobs and their health. Job functions here stay thin and
take ids only: job data is visible in Redis and on the dashboard, so it never carries a token
or personal data."""
