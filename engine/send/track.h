/*
 * track - a prepared campaign's tracking: the open image, the tracked links
 * and the lists whose recipients get {{ confirm_url }}.
 *
 * campaign_track_prepare  set them up from the campaign's row (links stored
 *                         once here, the HTML template rewritten once here)
 * campaign_track_free     release what it added
 */
#ifndef POSTINO_SEND_TRACK_H
#define POSTINO_SEND_TRACK_H

#include <libpq-fe.h>
#include <stddef.h>

struct prepared_campaign;

/* campaign_track_prepare - 0, or -1 with a one-line ERR (PC then as it was). */
int campaign_track_prepare(PGconn *conn, struct prepared_campaign *pc, char *err, size_t errlen);
void campaign_track_free(struct prepared_campaign *pc);

#endif
