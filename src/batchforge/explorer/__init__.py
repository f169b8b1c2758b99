"""The Data Explorer: browse, preview, download and upload objects in S3.

Everything here works on a *target* already resolved by :mod:`batchforge.services.data_links`
(an S3 client bound to the bucket's region, the bucket, and the link's key prefix); nothing here
touches the database.

- :mod:`.limits` — the numbers (page size, preview size, part sizes, batch limits);
- :mod:`.paths` — validation of user-given paths and ``s3://`` references;
- :mod:`.content` — content-type detection, previewable kinds, HTTP ranges, dispositions;
- :mod:`.permissions` — which IAM action each S3 call needs, and the hint when it is denied;
- :mod:`.discovery` — buckets visible to credentials, and their regions;
- :mod:`.target` — one link's operations: browse, tree, preview, download, delete, folders;
- :mod:`.uploads` — multipart uploads: presigned parts, and streaming through the server;
- :mod:`.script` — the shell script that downloads many files with presigned URLs.

Permissions: with only ``s3:Get*``, ``s3:List*`` and ``s3:PutObject`` everything works except
the *extras* (deleting objects, aborting multipart uploads), which need ``s3:DeleteObject`` and
``s3:AbortMultipartUpload``; when AWS denies them the error names the action to add.
"""
