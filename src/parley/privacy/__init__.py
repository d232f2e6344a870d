"""GDPR: a reader's data export (Art. 15/20), account erasure (Art. 17), and retention purges."""
