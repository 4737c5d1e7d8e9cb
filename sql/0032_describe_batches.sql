-- Message Batches submitted by `dbfirst describe --batch`, and which image each request describes.
-- A batch is pending until `dbfirst describe --collect` (or the collect-describe-batches job) has stored its
-- results; an image in a pending batch is not submitted again.
CREATE TABLE gallery.describe_batches (
  batch_id      text        PRIMARY KEY,              -- Anthropic's msgbatch_… id
  model         text        NOT NULL,                 -- the model every request in the batch asked for
  submitted_at  timestamptz NOT NULL DEFAULT now(),
  ended_at      timestamptz,                          -- when the API finished processing it
  status        text        NOT NULL DEFAULT 'in_progress'
                CHECK (status IN ('in_progress', 'canceling', 'ended', 'collected')),
  request_count int         NOT NULL CHECK (request_count > 0)
);

CREATE TABLE gallery.describe_batch_items (
  batch_id  text   NOT NULL REFERENCES gallery.describe_batches ON DELETE CASCADE,
  custom_id text   NOT NULL,                           -- 'image-<id>', as sent
  image_id  bigint NOT NULL REFERENCES gallery.image_gallery ON DELETE CASCADE,
  PRIMARY KEY (batch_id, custom_id)
);

CREATE INDEX describe_batch_items_image ON gallery.describe_batch_items (image_id);

COMMENT ON TABLE gallery.describe_batches IS 'Describe work submitted through the Message Batches API; pending until status = collected.';
COMMENT ON TABLE gallery.describe_batch_items IS 'Which image each request (custom_id) of a describe batch describes.';
