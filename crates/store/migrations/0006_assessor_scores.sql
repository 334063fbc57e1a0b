-- An assessor's scores for one applicant's SKB component (interview, practical test, …):
-- one per rubric criterion, in the rubric's order, as a comma-separated list. Each
-- assessor scores once; the selection crate combines two (or three) into the component.
CREATE TABLE assessor_scores (
    selection_id    TEXT NOT NULL REFERENCES selections (id),
    component       TEXT NOT NULL,
    participant_no  TEXT NOT NULL,
    assessor        TEXT NOT NULL,
    criteria        TEXT NOT NULL,
    recorded_at     TEXT NOT NULL,
    PRIMARY KEY (selection_id, component, participant_no, assessor)
);
