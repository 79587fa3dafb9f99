/*
 * smtp_data - a message made ready for the SMTP DATA phase (RFC 5321 4.5.2).
 *
 * smtp_data_stuff  append a message, dot-stuffed and ended by CRLF.CRLF
 * smtp_data_as_is  would smtp_data_stuff append it unchanged, then ".\r\n"
 * smtp_data_ready  make a message, in place, what the DATA phase sends before ".\r\n"
 *
 * Pure and infallible (allocation failure is fatal, see alloc.h).
 */
#ifndef POSTINO_NET_SMTP_DATA_H
#define POSTINO_NET_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/util/buf.h"

void smtp_data_stuff(struct buf *out, const void *data, size_t len);
bool smtp_data_as_is(const void *data, size_t len);
void smtp_data_ready(struct buf *msg);

#endif
