"""Layer 6, service: the app server's side: settings, the job manager and its worker processes, shipped results."""
