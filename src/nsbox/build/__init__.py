"""build: images from a Dockerfile (Containerfile), above image and engine.

dockerfile.py parses the file into instructions (plain data, each with its line);
words.py substitutes build arguments and environment variables as Docker does;
context.py is the build context (a directory or a tar) with .dockerignore (ignore.py) and
the sources of COPY/ADD; cache.py keys each step like Docker's layer cache; layers.py
turns the files a step changed (an overlay upper directory) into an image layer;
steps.py runs one instruction; builder.py runs the stages and writes the image.
"""
