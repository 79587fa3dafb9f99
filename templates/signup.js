/*
 * signup.js - the proof of work of a postino signup form (/s/LIST, or the
 * snippet `postino list form` prints). A form with data-postino-signup set to
 * a number of bits asks the server for a challenge when it is sent, finds a
 * nonce so that SHA-256(challenge ":" nonce) starts with that many zero bits,
 * and is then sent with both. Nothing else is loaded from anywhere.
 */
(function () {
  "use strict";
  var K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ];
  var W = new Array(64);

  /* the first word of SHA-256 of the ASCII string S (challenges and nonces are ASCII) */
  function sha256(s) {
    var n = s.length, words = ((n + 8) >> 6) + 1, m = new Array(words * 16), i;
    for (i = 0; i < m.length; i++) m[i] = 0;
    for (i = 0; i < n; i++) m[i >> 2] |= (s.charCodeAt(i) & 0xff) << (24 - (i & 3) * 8);
    m[n >> 2] |= 0x80 << (24 - (n & 3) * 8);
    m[words * 16 - 1] = n * 8;
    var h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    for (var b = 0; b < m.length; b += 16) {
      var a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
      for (i = 0; i < 64; i++) {
        if (i < 16) W[i] = m[b + i] | 0;
        else {
          var x = W[i - 15], y = W[i - 2];
          W[i] = (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
                 W[i - 7] + (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + W[i - 16] | 0;
        }
        var t1 = hh + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
                 ((e & f) ^ (~e & g)) + K[i] + W[i] | 0;
        var t2 = (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
                 ((a & bb) ^ (a & c) ^ (bb & c)) | 0;
        hh = g; g = f; f = e; e = d + t1 | 0; d = c; c = bb; bb = a; a = t1 + t2 | 0;
      }
      h[0] = h[0] + a | 0; h[1] = h[1] + bb | 0; h[2] = h[2] + c | 0; h[3] = h[3] + d | 0;
      h[4] = h[4] + e | 0; h[5] = h[5] + f | 0; h[6] = h[6] + g | 0; h[7] = h[7] + hh | 0;
    }
    return h;
  }

  /* does H (eight 32-bit words) start with BITS zero bits? */
  function zeros(h, bits) {
    for (var i = 0; bits > 0; i++, bits -= 32) {
      var mask = bits >= 32 ? 0xffffffff : ~(0xffffffff >>> bits);
      if ((h[i] & mask) !== 0) return false;
    }
    return true;
  }

  function field(form, name, value) {
    var el = form.querySelector('input[name="' + name + '"]');
    if (!el) {
      el = document.createElement("input");
      el.type = "hidden";
      el.name = name;
      form.appendChild(el);
    }
    el.value = value;
  }

  function solve(challenge, bits, done) {
    var nonce = 0, prefix = challenge + ":";
    (function step() {
      for (var end = nonce + 20000; nonce < end; nonce++)
        if (zeros(sha256(prefix + nonce), bits)) return done(String(nonce));
      setTimeout(step, 0);
    })();
  }

  function arm(form) {
    var busy = false;
    form.addEventListener("submit", function (ev) {
      if (form.getAttribute("data-postino-solved") === "1") return;
      ev.preventDefault();
      if (busy) return;
      busy = true;
      var button = form.querySelector("button[type=submit], button:not([type])");
      if (button) button.disabled = true;
      var base = form.action.replace(/\/s\/?$/, "");
      fetch(base + "/s/challenge", { cache: "no-store", credentials: "omit" })
        .then(function (r) { return r.json(); })
        .then(function (c) {
          solve(c.challenge, c.bits, function (nonce) {
            field(form, "pow_challenge", c.challenge);
            field(form, "pow_nonce", nonce);
            form.setAttribute("data-postino-solved", "1");
            HTMLFormElement.prototype.submit.call(form);
          });
        })
        .catch(function () {
          busy = false;
          if (button) button.disabled = false;
          alert("The form could not reach the server: try again in a moment.");
        });
    });
  }

  function start() {
    var forms = document.querySelectorAll("form[data-postino-signup]");
    for (var i = 0; i < forms.length; i++)
      if (+forms[i].getAttribute("data-postino-signup") > 0) arm(forms[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
