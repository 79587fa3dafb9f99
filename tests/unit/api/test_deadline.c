/*
 * test_deadline - slow requests cut off: the watcher shuts down a socket
 * whose headers are late, or whose body comes slower than the rate, and
 * never one being answered. Each connection is one end of a socket pair;
 * being cut off shows at the other end as the end of the stream.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/deadline.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* seconds until the peer FD sees the end of the stream, waiting at most LIMIT; -1: not by then */
static double cut_after(int fd, double t0, double limit)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    char c;
    while (now_s() - t0 < limit) {
        if (poll(&p, 1, 100) == 1)
            return read(fd, &c, 1) == 0 ? now_s() - t0 : -1;
    }
    return -1;
}

static void test_deadline_late_headers_are_cut_off(void **state)
{
    (void)state;
    struct deadline_limits lim = { .header_s = 1, .idle_s = 30, .body_s = 30, .min_rate = 1 };
    struct deadlines *d = deadlines_start(&lim);
    int sp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    double t0 = now_s();
    struct deadline *c = deadline_open(d, sp[0]);
    double t = cut_after(sp[1], t0, 10);
    assert_true(t >= 0.9 && t < 2.5);
    struct buf out = BUF_INIT;
    deadlines_metrics(d, &out);
    assert_non_null(strstr(buf_cstr(&out), "postino_http_timeouts_total{phase=\"headers\"} 1\n"));
    assert_non_null(strstr(buf_cstr(&out), "postino_http_timeouts_total{phase=\"body\"} 0\n"));
    buf_free(&out);
    deadline_close(d, c);
    close(sp[0]);
    close(sp[1]);
    deadlines_stop(d);
}

static void test_deadline_body_earns_time_answer_has_none(void **state)
{
    (void)state;
    /* a body has 1 s, and one more for each 1000 bytes received */
    struct deadline_limits lim = { .header_s = 1, .idle_s = 30, .body_s = 1, .min_rate = 1000 };
    struct deadlines *d = deadlines_start(&lim);
    int body[2], answer[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, body), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, answer), 0);
    double t0 = now_s();
    struct deadline *b = deadline_open(d, body[0]);
    struct deadline *a = deadline_open(d, answer[0]);
    deadline_headers(d, b);
    deadline_body(d, b, 1500);
    deadline_body(d, b, 500);
    deadline_headers(d, a);
    deadline_answer(d, a);
    /* the body is due 3 s after its headers; the answer never */
    double t = cut_after(body[1], t0, 10);
    assert_true(t >= 2.9 && t < 4.5);
    assert_true(cut_after(answer[1], now_s(), 1.5) < 0);
    struct buf out = BUF_INIT;
    deadlines_metrics(d, &out);
    assert_non_null(strstr(buf_cstr(&out), "postino_http_timeouts_total{phase=\"body\"} 1\n"));
    assert_non_null(strstr(buf_cstr(&out), "postino_http_timeouts_total{phase=\"headers\"} 0\n"));
    buf_free(&out);
    deadline_close(d, b);
    deadline_close(d, a);
    for (int i = 0; i < 2; i++)
        close(body[i]), close(answer[i]);
    deadlines_stop(d);
}

static void test_deadline_a_kept_alive_wait_is_idle_then_headers(void **state)
{
    (void)state;
    /* after an answer: idle_s + header_s for the next request line, then header_s from it */
    struct deadline_limits lim = { .header_s = 1, .idle_s = 1, .body_s = 30, .min_rate = 1 };
    struct deadlines *d = deadlines_start(&lim);
    int sp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    struct deadline *c = deadline_open(d, sp[0]);
    deadline_headers(d, c);
    deadline_answer(d, c);
    deadline_done(d, c);
    double t0 = now_s();
    assert_true(cut_after(sp[1], t0, 1.5) < 0);
    deadline_request(d, c);
    double t1 = now_s();
    double t = cut_after(sp[1], t1, 10);
    assert_true(t >= 0.9 && t < 2.5);
    deadline_close(d, c);
    close(sp[0]);
    close(sp[1]);
    deadlines_stop(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadline_late_headers_are_cut_off),
        cmocka_unit_test(test_deadline_body_earns_time_answer_has_none),
        cmocka_unit_test(test_deadline_a_kept_alive_wait_is_idle_then_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
