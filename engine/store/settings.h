/*
 * settings - installation-wide values postino generates for itself.
 *
 * store_secret  the named random secret (created on first use, then the same
 *               forever); 0, or a store error
 */
#ifndef POSTINO_STORE_SETTINGS_H
#define POSTINO_STORE_SETTINGS_H

#include <libpq-fe.h>
#include <stddef.h>

#include "engine/store/store.h"

int store_secret(PGconn *conn, const char *name, unsigned char *out, size_t len, struct store_err *e);

#endif
