/*
 * fuzz_mailbox - libFuzzer target for what a bounce mailbox's server sends.
 * The first byte chooses: 0, each line of the rest through the IMAP and POP3
 * line parsers and the URL parser; 1 or 2, the rest is what an IMAP or a POP3
 * server says to a whole session of the client (greeting, login, a pass that
 * reads and removes messages, IDLE, logout) over a socket pair, with no TLS
 * and no waiting (mailbox__open_fd).
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/mail/mailbox_proto.h"
#include "engine/net/mailbox.h"
#include "engine/util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void lines(const char *p, size_t n)
{
    const char *end = p + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        struct imap_resp r;
        if (imap_resp_parse(p, len, &r) == 0) {
            if (r.code_args && r.code_args + r.code_args_len > p + len)
                __builtin_trap();
            imap_caps_parse(r.text, (size_t)(p + len - r.text));
            struct imap_fetch f;
            imap_fetch_parse(r.text, (size_t)(p + len - r.text), r.has_literal, r.literal, &f);
        }
        const char *text, *d;
        size_t dlen;
        uint32_t num;
        char word[72];
        if (pop3_status_parse(p, len, &text) >= 0 && (text < p || text > p + len))
            __builtin_trap();
        if (pop3_pair_parse(p, len, &num, word, sizeof(word)) == 0 && strlen(word) >= sizeof(word))
            __builtin_trap();
        if (pop3_unstuff(p, len, &d, &dlen) == 0 && (d < p || d + dlen > p + len))
            __builtin_trap();
        char url[512];
        if (len < sizeof(url)) {
            memcpy(url, p, len);
            url[len] = 0;
            struct mailbox_url u;
            const char *why;
            mailbox_url_parse(url, &u, &why);
        }
        p += len + 1;
    }
}

static int take(void *arg, const struct mailbox_msg *m)
{
    unsigned *n = arg;
    if (m->len > 1000 + 1024)
        __builtin_trap();
    return (*n)++ % 3 == 2 ? 1 : 0;
}

static void session(enum mailbox_proto proto, const uint8_t *data, size_t size)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return;
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(sv[1], data + off, size - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    shutdown(sv[1], SHUT_WR);
    struct mailbox_url u = { .proto = proto, .implicit_tls = true, .user = "bounces", .host = "127.0.0.1",
                             .port = 993, .folder = "INBOX" };
    struct mailbox_opts o = { .url = &u, .password = "pw", .move_to = size % 2 ? "Processed" : NULL,
                              .max_size = 1000, .head_bytes = 100, .timeout_s = 1, .stop_fd = -1 };
    char err[512];
    struct mailbox *mb = mailbox__open_fd(&o, sv[0], 0, err, sizeof(err));
    if (mb) {
        unsigned n = 0, nread, removed;
        if (mailbox_pass(mb, take, &n, &nread, &removed, err, sizeof(err)) >= 0 && mailbox_can_idle(mb))
            mailbox_idle(mb, 0, err, sizeof(err));
        mailbox_close(mb);
    }
    close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] % 3 == 0)
        lines((const char *)data + 1, size - 1);
    else
        session(data[0] % 3 == 1 ? MAILBOX_IMAP : MAILBOX_POP3, data + 1, size - 1);
    return 0;
}
