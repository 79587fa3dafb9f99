/*
 * notify - readiness, reloading and stopping told to systemd (see notify.h).
 */
#include <stdio.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "engine/util/log.h"
#include "engine/util/notify.h"

/* send STATE; a failure is logged the first time */
static void notify_send(const char *state)
{
    static int warned;
    int rc = sd_notify(0, state);
    if (rc < 0 && !__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
        log_warn("cannot tell the service manager \"%.*s\": %s", (int)strcspn(state, "\n"), state, strerror(-rc));
}

/* notify_ready - READY=1 and a STATUS line naming WHAT is running. */
void notify_ready(const char *what)
{
    char state[300];
    snprintf(state, sizeof(state), "READY=1\nSTATUS=%s", what);
    notify_send(state);
}

/* notify_reloading - RELOADING=1 (READY=1 follows when done). */
void notify_reloading(void)
{
    notify_send("RELOADING=1\nSTATUS=reading the configuration and the relays again");
}

/* notify_stopping - STOPPING=1 while what is in flight finishes. */
void notify_stopping(void)
{
    notify_send("STOPPING=1\nSTATUS=stopping: finishing what is in flight");
}
