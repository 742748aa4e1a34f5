"""Third-party services connected to a workspace, the replicated access control lists of
their documents, libraries, and the one decision "may this member see this document"
(R-CON-1 to R-CON-7)."""
