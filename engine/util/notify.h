/*
 * notify - tell the service manager how the service is (sd_notify, libsystemd).
 *
 * notify_ready      READY=1 with STATUS=WHAT: started, or done reloading
 * notify_reloading  RELOADING=1: reading the configuration again (SIGHUP)
 * notify_stopping   STOPPING=1: draining before it exits (SIGTERM)
 *
 * Without NOTIFY_SOCKET (not a Type=notify service) each does nothing. Any
 * thread may call them; a failure to tell is logged once, never fatal.
 */
#ifndef POSTINO_UTIL_NOTIFY_H
#define POSTINO_UTIL_NOTIFY_H

void notify_ready(const char *what);
void notify_reloading(void);
void notify_stopping(void);

#endif
