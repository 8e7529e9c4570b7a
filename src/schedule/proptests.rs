//! Property tests of the builder's invariants over random plans and libraries.
