-- What a login checks (a candidate's PIN hash, a sitting's token and status) is kept in
-- the server's memory for the open sittings, so that a room logging in at once does not
-- read the database once per candidate. Every store function that changes one raises this
-- counter in the same transaction, whichever process runs it (the server or the `ujian`
-- command line); the server watches it and drops what it kept when it moves.
CREATE TABLE store_generations (
    name TEXT PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO store_generations (name, generation) VALUES ('logins', 0);
