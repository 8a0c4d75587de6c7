"""Files sent in a chat: photos and PDFs checked by their content, scanned, cleaned, stored and served by link.

`inspection.py` decides the type from the bytes and cleans images (upright, no metadata, a thumbnail);
`scanning.py` asks ClamAV; `storage.py` keeps the files (a folder or S3); `links.py` signs short-lived
download links; `services.py` puts them together: upload, link, download, and deletion with the transcript.
"""
