-- 018_media: images uploaded for campaigns, kept once by their content.
-- Stored in the database (backed up with it, served alike by every host
-- running postino serve), at most [admin] media_max_bytes each. sha256 is
-- the hex SHA-256 of the bytes: the public address /m/SHA256.EXT names the
-- content, so it never changes and may be cached for good. type is one of
-- the raster types taken (engine/util/image.c: PNG, JPEG, GIF, WebP; never
-- SVG), checked against the bytes; width and height come from the header.
CREATE TABLE media (
    id         bigserial PRIMARY KEY,
    sha256     text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    type       text NOT NULL CHECK (type IN ('image/png', 'image/jpeg', 'image/gif', 'image/webp')),
    bytes      bytea NOT NULL,
    size       integer NOT NULL CHECK (size > 0),
    width      integer NOT NULL CHECK (width > 0),
    height     integer NOT NULL CHECK (height > 0),
    name       text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by bigint REFERENCES users (id) ON DELETE SET NULL
);
-- the bytes are read only to be served, by sha256; listings never touch them
ALTER TABLE media ALTER COLUMN bytes SET STORAGE EXTERNAL;
