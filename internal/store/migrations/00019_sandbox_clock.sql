-- +goose Up
-- The sandbox clock: one value every node reads (clock.Shared). Its offset
-- from real time only grows (conditional updates), so the sandbox time
-- never moves back, whichever node moves it.
CREATE TABLE sandbox_clock (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    offset_us BIGINT NOT NULL
);

-- +goose Down
DROP TABLE sandbox_clock;
