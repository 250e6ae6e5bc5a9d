from kayse_pipeline.cli import main

main()
